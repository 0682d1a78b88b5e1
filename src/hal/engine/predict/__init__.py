"""Runtime predictors behind the RuntimePredictor interface; all learn online from completions."""
