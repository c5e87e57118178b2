"""The bulk first load into an empty registry: read and stage the feeds (read.py), cluster
and plan what each cluster becomes (plan.py), write chunks in processes of their own
(worker.py, write.py); load.py runs it."""
