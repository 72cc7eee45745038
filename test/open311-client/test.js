// Drives every method of npm open311@0.0.12 against a Linli, in JSON and in
// XML mode: node test.js BASE_URL API_KEY BATCH_KEY. Prints one JSON line
// of the request ids it created, exits non-zero on any failure.
'use strict';
const assert = require('assert');
const Open311 = require('open311');

const [base, apiKey, batchKey] = process.argv.slice(2);
if (!base || !apiKey || !batchKey) {
  console.error('usage: node test.js BASE_URL API_KEY BATCH_KEY');
  process.exit(2);
}

function call(client, method, ...args) {
  return new Promise((resolve) => client[method](...args, (err, data) => resolve({ err, data })));
}

async function run(format) {
  const endpoint = base + '/open311/v2/';
  const o = new Open311({ endpoint, format, jurisdiction: 'linli', apiKey,
    discovery: base + '/open311/discovery.' + format });
  const created = [];

  let r = await call(o, 'serviceDiscovery');
  assert.ok(!r.err, format + ' discovery: ' + r.data);
  assert.strictEqual(r.data.endpoints[0].specification, 'http://wiki.open311.org/GeoReport_v2');

  r = await call(o, 'serviceList');
  assert.ok(!r.err, format + ' serviceList: ' + r.data);
  assert.ok(Array.isArray(r.data) && r.data.length >= 10, format + ' services is a list');
  const pothole = r.data.find((s) => s.service_code === 'E0101');
  assert.ok(pothole && pothole.metadata === true && pothole.type === 'realtime', format + ' E0101: ' + JSON.stringify(pothole));

  r = await call(o, 'serviceDefinition', 'E0101');
  assert.ok(!r.err, format + ' serviceDefinition: ' + r.data);
  assert.strictEqual(r.data.service_code, 'E0101');
  const depth = r.data.attributes.find((a) => a.code === 'DEPTH');
  assert.ok(depth && depth.required === true && depth.values.length === 2, format + ' DEPTH: ' + JSON.stringify(depth));

  r = await call(o, 'serviceDefinition', 'NOPE');
  assert.ok(r.err, format + ' an unknown service code fails');

  const request = { service_code: 'E0101', lat: 37.483, long: 121.4262, description: 'Rubbish by the north gate (' + format + ')',
    first_name: 'Ann', last_name: 'Lee', email: 'ann@example.org', attributes: { DEPTH: 'gt5', HAZARDS: ['water', 'cycle'] } };
  for (let i = 0; i < 2; i++) {
    r = await call(o, 'submitRequest', request);
    assert.ok(!r.err, format + ' submitRequest: ' + r.data);
    const id = String(r.data[0].service_request_id);
    assert.ok(/^\d{15}$/.test(id), format + ' service_request_id: ' + JSON.stringify(r.data));
    created.push(id);
  }

  // jurisdiction_id goes in the query string of the POST: it is read.
  const elsewhere = new Open311({ endpoint, format, jurisdiction: 'elsewhere.gov', apiKey });
  r = await call(elsewhere, 'submitRequest', request);
  assert.strictEqual(r.err, 404, format + ' a jurisdiction in the query string is honoured: ' + r.data);
  const keyless = new Open311({ endpoint, format, jurisdiction: 'linli', apiKey: 'o311_forged' });
  r = await call(keyless, 'submitRequest', request);
  assert.strictEqual(r.err, 403, format + ' a bad key is refused: ' + r.data);

  r = await call(o, 'serviceRequests', created);
  assert.ok(!r.err, format + ' serviceRequests([ids]): ' + r.data);
  assert.deepStrictEqual(r.data.map((x) => String(x.service_request_id)).sort(), created.slice().sort(),
    format + ' the comma list returns both');

  r = await call(o, 'serviceRequest', created[0]);
  assert.ok(!r.err, format + ' serviceRequest(id): ' + r.data);
  assert.strictEqual(r.data.length, 1);
  assert.strictEqual(r.data[0].status, 'open');
  assert.ok(r.data[0].requested_datetime instanceof Date && !isNaN(r.data[0].requested_datetime), format + ' dates parse');

  r = await call(o, 'serviceRequests', { status: 'open', service_code: 'E0101' });
  assert.ok(!r.err, format + ' serviceRequests(params): ' + r.data);
  assert.ok(r.data.length >= 2, format + ' open E0101 requests');

  if (format === 'json') {
    r = await call(o, 'serviceRequest', created[0], { extensions: 'true' });
    assert.ok(!r.err, format + ' extensions: ' + r.data);
    assert.deepStrictEqual(r.data[0].attributes.HAZARDS, ['water', 'cycle'], 'array attributes are stored as a multi-value');
  }

  r = await call(o, 'serviceRequest', '20260101999999');
  assert.ok(r.err, format + ' an unknown request fails');

  const batch = new Open311({ endpoint, format, jurisdiction: 'linli', apiKey: batchKey });
  r = await call(batch, 'submitRequest', request);
  assert.ok(!r.err, format + ' batch submitRequest: ' + r.data);
  const token = r.data[0].token;
  assert.ok(token && !r.data[0].service_request_id, format + ' a batch key gets a token: ' + JSON.stringify(r.data));
  r = await call(batch, 'token', String(token));
  assert.ok(!r.err, format + ' token: ' + r.data);
  assert.ok(/^\d{15}$/.test(String(r.data[0].service_request_id)), format + ' token → id: ' + JSON.stringify(r.data));
  created.push(String(r.data[0].service_request_id));
  r = await call(batch, 'token', 'nope');
  assert.ok(r.err, format + ' an unknown token fails');
  return created;
}

(async () => {
  const ids = { json: await run('json'), xml: await run('xml') };
  console.log(JSON.stringify(ids));
})().catch((err) => {
  console.error(err && err.stack || err);
  process.exit(1);
});
