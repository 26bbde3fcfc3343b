// Node test-runner reporter that writes the counts of passed, failed and skipped tests as JSON.
// Suites and the per-file wrappers Node adds are not counted, only the tests inside them.
export default async function* countReporter(source) {
  const counts = { passed: 0, failed: 0, skipped: 0, failures: [] };
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { data } = event;
    if (data.details?.type === 'suite') continue;
    if (data.nesting === 0 && data.name === data.file) continue;
    if (data.skip !== undefined || data.todo !== undefined) counts.skipped++;
    else if (event.type === 'test:pass') counts.passed++;
    else {
      counts.failed++;
      counts.failures.push(`${data.file ?? ''} > ${data.name}`);
    }
  }
  yield JSON.stringify(counts);
}
