"""Clones a repo with dulwich, commits a file, pushes it back: git's smart HTTP as dulwich speaks it."""
import os
import sys

from dulwich import porcelain

url, workdir, name = sys.argv[1], sys.argv[2], sys.argv[3]
repo = porcelain.clone(url, workdir, checkout=True)
path = os.path.join(workdir, name)
with open(path, "w") as f:
    f.write("written by dulwich\n")
porcelain.add(repo, paths=[path])
porcelain.commit(repo, message=b"dulwich commit", author=b"Dul <d@example.com>", committer=b"Dul <d@example.com>")
porcelain.push(repo, url, b"refs/heads/main:refs/heads/main")
print(repo.head().decode())
