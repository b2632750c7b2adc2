"""What platform_sim and backing_services share about this machine: child processes (one
executor), owner-only files, the loopback address. Standard library only: it also runs in the
code images, beside platform_sim."""
