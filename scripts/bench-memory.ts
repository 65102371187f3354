/**
 * Peak memory of a piece of work, for the benchmarks: the tensor bytes tfjs holds (tf.profile's
 * peak, sampled after every kernel: all live tensors, weights and optimiser state included) and
 * the process's resident set (Linux's high-water mark VmHWM, reset through /proc/self/clear_refs
 * before the work, so it is the peak while the work ran, with what was resident before included).
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';

/** Resets the RSS high-water mark to the current RSS; false where the platform cannot. */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** The RSS high-water mark in MB (since the last reset), or null where unavailable. */
export function peakRssMB(): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export interface PeakMemory {
  /** Largest number of tensor bytes held while the work ran (MB). */
  peakTensorMB: number;
  /** Peak process RSS while the work ran (MB), null where it cannot be measured. */
  peakRssMB: number | null;
}

/** Runs `work` once under tf.profile and the RSS high-water mark. */
export async function peakMemoryOf(work: () => Promise<unknown>): Promise<PeakMemory> {
  const rssOk = resetPeakRss();
  const info = await tf.profile(async () => {
    await work();
  });
  return { peakTensorMB: info.peakBytes / 2 ** 20, peakRssMB: rssOk ? peakRssMB() : null };
}
