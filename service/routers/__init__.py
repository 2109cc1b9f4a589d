"""One router per resource: health, specialties, regions, institutions, communities, routes, validation."""
