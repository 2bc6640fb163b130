// The cost of memory fresh from the kernel: the first write to each 4 KiB page of a new mapping is a
// page fault. On bare metal that is well under a microsecond; on some virtual machines it is tens,
// and then whatever takes memory afresh (a process starting, a garbage collector promoting objects
// into new pages) pays for every page. An anchor for those, measured in the same run.
export function firstTouchMicrosPerPage(megabytes = 64): number {
  const page = 4096;
  // Unpooled and not zero-filled: a fresh mapping whose pages the kernel has not given out yet.
  const buf = Buffer.allocUnsafeSlow(megabytes << 20);
  const t = performance.now();
  for (let i = 0; i < buf.length; i += page) buf[i] = 1;
  return ((performance.now() - t) * 1000) / (buf.length / page);
}
