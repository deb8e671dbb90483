"""One router per resource; each route declares the roles it allows (:func:`api.http.deps.allow`)."""
