// What each fault is to the suite: a name (for --only), whether its Redis keeps an AOF, and its run.
import type { FaultResult, FaultRun } from './fault-run.ts';

export interface Fault {
  name: string;
  /** Redis with `appendonly yes` (the restart fault: the data must survive the restart). */
  appendonly?: boolean;
  run(run: FaultRun): Promise<FaultResult>;
}
