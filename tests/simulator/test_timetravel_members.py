"""Time travel never adds a member a group already has (issue 14 #10): Atlassian never lists a member twice."""

from atlassian_simulator.core import Simulator


def test_ten_days_of_time_travel_list_no_member_twice():
    sim = Simulator.generate("small", seed=11)  # the seed and days that listed an account twice
    for _ in range(10):
        sim.advance(1)
    twice = [(group, member) for org in sim.orgs for group, members in org.memberships.items()
             for member in set(members) if members.count(member) > 1]
    assert twice == []
