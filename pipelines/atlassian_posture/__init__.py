"""atlassian-posture: a SQL warehouse of an Atlassian organization's security posture."""
