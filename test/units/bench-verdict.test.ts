import { expect } from 'chai';

import { config } from '../../bench/options.js';
import type { RunResult } from '../../bench/results.js';
import { TARGETS } from '../../bench/protocol.js';
import { inMeasuringOrder, measuringTime } from '../../bench/slices.js';
import { checks, pairedRatios } from '../../bench/targets.js';

/** A memory-pass run of the flow with these CPU µs per flow, slice by slice. */
function flowRun(target: RunResult['target'], slices: readonly number[]): RunResult {
  const cpuMicros = slices.reduce((total, value) => total + value, 0) / slices.length;
  return {
    scenario: 'authorization_code',
    storage: 'memory',
    target,
    unit: 'flow',
    node: 'v24.0.0',
    load: { completed: 1000, errors: 0, seconds: 10, rate: 100, p50: 1, p99: 2, mean: 1 },
    serverCpuSeconds: 1,
    cpuMicros,
    sliceCpuMicros: slices,
    perCore: 1e6 / cpuMicros,
    utilization: 1,
    startRssMb: 100,
    peakRssMb: 200,
  } as RunResult;
}

function flowVerdict(ours: readonly number[], anchor: readonly number[]) {
  const check = checks([flowRun('ours', ours), flowRun('anchor-express', anchor)], undefined, undefined)
    .find((candidate) => candidate.name.includes('authorization-code flow'));
  if (!check) throw new Error('no flow target');
  return check;
}

describe('bench verdicts', () => {
  it('pairs each slice of ours with the anchor slice next to it in time', () => {
    const paired = pairedRatios(flowRun('ours', [100, 200, 100]), flowRun('anchor-express', [90, 200, 80]));
    expect(paired?.pairs).to.equal(3);
    expect(paired?.mean).to.be.closeTo((0.9 + 1 + 0.8) / 3, 1e-9);
    expect(paired?.lowest).to.be.closeTo(0.8, 1e-9);
    expect(paired?.highest).to.be.closeTo(1, 1e-9);
    expect(paired?.twoErrors).to.be.closeTo(2 * 0.1 / Math.sqrt(3), 1e-9);
    expect(pairedRatios(flowRun('ours', [100]), flowRun('anchor-express', [90]))).to.equal(undefined);
  });

  it('says a PASS is settled when the slice pairs keep clear of the target', () => {
    const check = flowVerdict([100, 100, 100, 100], [90, 91, 89, 90]);
    expect(check.pass).to.equal(true);
    expect(check.value).to.match(/^0\.90 \[slice pairs 0\.90 ±0\.01 \(0\.89–0\.91, 4 pairs\)\]/);
    expect(check.value).not.to.include('not settled');
  });

  it('says a PASS is not settled when the slice pairs reach across the target', () => {
    const check = flowVerdict([100, 100, 100, 100], [70, 110, 75, 105]);
    expect(check.pass).to.equal(true);
    expect(check.value).to.include("not settled by this run: the pairs' mean ±2 standard errors reaches across 0.85");
  });

  it('keeps a FAIL a FAIL, settled or not', () => {
    const settled = flowVerdict([100, 100, 100, 100], [70, 71, 69, 70]);
    expect(settled.pass).to.equal(false);
    expect(settled.value).not.to.include('not settled');
    const open = flowVerdict([100, 100, 100, 100], [60, 100, 65, 95]);
    expect(open.pass).to.equal(false);
    expect(open.value).to.include('not settled');
  });

  it('measures ours next to the servers it is compared with, and every server', () => {
    const order = inMeasuringOrder(TARGETS, (target) => target);
    expect([...order].sort()).to.deep.equal([...TARGETS].sort());
    const ours = order.indexOf('ours');
    expect(order[ours + 1]).to.equal('anchor-express');
    expect(order[ours - 1]).to.equal('base');
    const withoutBase = inMeasuringOrder(TARGETS.filter((target) => target !== 'base'), (target) => target);
    expect(withoutBase.slice(0, 3)).to.deep.equal(['ours-metrics-off', 'ours', 'anchor-express']);
    // Whatever order BENCH_TARGETS lists them in.
    expect(inMeasuringOrder(['anchor-https', 'anchor-express', 'bare', 'ours'] as const, (target) => target)).to.deep.equal(['ours', 'anchor-express', 'bare', 'anchor-https']);
  });

  it('measures the flow on memory storage for its own time, every other pass for BENCH_DURATION', () => {
    expect(measuringTime('authorization_code', 'memory')).to.deep.equal({ duration: config.flowDuration, slices: config.flowSlices });
    expect(measuringTime('authorization_code', 'redis')).to.deep.equal({ duration: config.duration, slices: config.slices });
    expect(measuringTime('client_credentials', 'memory')).to.deep.equal({ duration: config.duration, slices: config.slices });
    if (!process.env.BENCH_FLOW_DURATION && !process.env.BENCH_QUICK) expect(config.flowDuration).to.equal(4 * config.duration);
    if (!process.env.BENCH_FLOW_SLICES && !process.env.BENCH_QUICK) expect(config.flowSlices).to.equal(4 * config.slices);
  });
});
