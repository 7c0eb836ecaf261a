"""paddledoctor fleet: the doctor on every rank of a distributed job started by Paddle's launcher,
and a collective check across the ranks (see docs/fleet.md).

- :mod:`.command`: the click command (click and the standard library only at import);
- :mod:`.rank`: one rank's part (its own check, the collective child, the cluster report);
- :mod:`.table`: the cluster table rank 0 prints.

The collective work runs in ``fleet/children/fleet_collective.py`` (shipped as package data), a
child process under a deadline; the process the launcher starts never imports paddle.
"""
