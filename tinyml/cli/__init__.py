"""The command line: thin Typer commands that call the service packages."""
