"""What an app declares: its build file, its environment, its variables."""
