"""The live shell around the engine: store, directives, auth, accounting and the control loop."""
