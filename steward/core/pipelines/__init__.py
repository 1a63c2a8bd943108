"""The pure core of the pipeline registry: names, input schemas, specs, building, sources, training.

Nothing here touches the database; services call these and persist what they return.
"""
