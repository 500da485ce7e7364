"""Configuration: config.toml read and checked into typed settings; errors name file and key."""
