"""`python -m atlassian_posture`: the same as the `atlassian-posture` command."""

from atlassian_posture.cli import main

main()
