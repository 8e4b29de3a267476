"""Clones a repo with libgit2 (pygit2), commits a file, pushes it back, then fetches."""
import os
import sys

import pygit2

url, workdir, name = sys.argv[1], sys.argv[2], sys.argv[3]
repo = pygit2.clone_repository(url, workdir)
with open(os.path.join(workdir, name), "w") as f:
    f.write("written by libgit2\n")
repo.index.add(name)
repo.index.write()
sig = pygit2.Signature("Lib", "l@example.com")
tree = repo.index.write_tree()
head = repo.head.target
oid = repo.create_commit("refs/heads/main", sig, sig, "libgit2 commit", tree, [head])
repo.remotes["origin"].push(["refs/heads/main:refs/heads/main"])
repo.remotes["origin"].fetch()
print(str(oid))
