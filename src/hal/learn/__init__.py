"""Learning drivers outside the pure engine: evaluation, tuning, forecasting, model files and trainers."""
