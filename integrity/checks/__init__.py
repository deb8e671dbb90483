"""DA/T 70-2018 four-property detection: the item registry, the checks and the stage engine."""
