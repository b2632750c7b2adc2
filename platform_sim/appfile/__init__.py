"""What an app declares: its build file (dotcloud.yml) and the environment it gives instances."""
