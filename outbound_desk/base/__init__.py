"""What every layer shares and that depends on nothing: one definition per concept.

- :mod:`~outbound_desk.base.cancel`: the one ``Cancelled`` exception and the progress
  convention (``progress(done, total, phase)``, ``cancelled()``),
- :mod:`~outbound_desk.base.limits`: the platform's limits (columns, names, values, batch,
  list size),
- :mod:`~outbound_desk.base.errors`: the error envelope that carries an error's type, message
  and exit code across a process boundary,
- :mod:`~outbound_desk.base.workers`: how many threads a long job uses, decided once.

It sits below every other layer (``files`` and ``config`` included) and imports nothing of ours,
so that the readers, the domain, the client, the engine and both front ends say the same.
"""
