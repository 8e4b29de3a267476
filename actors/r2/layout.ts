/**
 * The one place R2 keys are built. Keys use the actor's id, not the repo's name, so a rename moves
 * nothing.
 * Invariants:
 * - Every key of a repository starts with `repos/<actor id>/`; no other code concatenates keys.
 */
export const R2_LAYOUT = {
  pack: (repoId: string, packName: string) => `repos/${repoId}/packs/${packName}.pack`,
};
