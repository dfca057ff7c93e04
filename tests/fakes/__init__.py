"""Local fakes of external services that cannot run here, speaking their real wire protocols."""
