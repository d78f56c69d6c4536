"""Fast paths that only ever skip work: the block scanner in front of the exact matcher, the
memoised matcher, the compiled-registry cache, parallel (``--jobs``) and Spark scans.

Every fast path here has a slow twin that gives the same detections (tests/fast proves it).
"""
