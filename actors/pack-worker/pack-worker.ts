/** A PackWorker slot (`pack-slot-N`): scatter-gather pack work. Its jobs arrive with the PackWorker issue. */
import { Server } from "partyserver";
import type { Env } from "../env.ts";

export class PackWorker extends Server<Env> {}
