// Shared by the loader workloads: run `work` N times, print load/first/warm as JSON.
export function report(name, loadMs, work, iterations) {
  const times = [];
  let sink = 0;
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    sink += work();
    times.push(performance.now() - t);
  }
  const warm = times.slice(1).sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({
    workload: name,
    load: loadMs,
    first: times[0],
    warm: warm[Math.floor(warm.length / 2)],
    sink,
  }) + '\n');
}

export async function reportAsync(name, loadMs, work, iterations) {
  const times = [];
  let sink = 0;
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    sink += await work();
    times.push(performance.now() - t);
  }
  const warm = times.slice(1).sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ workload: name, load: loadMs, first: times[0], warm: warm[Math.floor(warm.length / 2)], sink }) + '\n');
}

export const iterations = Number(process.env.ITERATIONS ?? 10);
