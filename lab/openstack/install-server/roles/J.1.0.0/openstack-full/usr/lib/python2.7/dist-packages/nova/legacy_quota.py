# removed in 2014.2.1
QUOTA_DRIVER = "legacy"
