package dev.kv.server;

/**
 * What a process uses, as the kernel counts it: resident memory now and at its peak (kB), threads,
 * and processor time since it started.
 */
record Usage(long rssKb, long hwmKb, long threads, double cpuSeconds) {
  @Override
  public String toString() {
    return String.format(
        "VmRSS %d MB, VmHWM %d MB, %d threads, %.1f s of CPU",
        rssKb >> 10, hwmKb >> 10, threads, cpuSeconds);
  }
}
