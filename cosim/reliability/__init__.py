"""Distribution-system reliability: outage accounting and RBTS reliability studies."""
