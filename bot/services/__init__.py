"""The service catalog (SERVICES_FILE): who owns a service, how to page its on-call, where to
tell, which runbooks come first."""
