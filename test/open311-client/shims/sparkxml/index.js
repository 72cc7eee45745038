// Stand-in for codeforamerica/node-sparkxml (a git dependency npm cannot
// fetch): parseXml(xml) maps XML to JSON by the Spark convention that
// node-open311 expects. The root element is dropped; a leaf becomes a typed
// scalar (a number or a boolean when it reads as one); an element with
// exactly one child, or whose children repeat one name, becomes an array;
// any other element an object.
'use strict';
const { DOMParser } = require('@xmldom/xmldom');

function children(el) {
  const out = [];
  for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push(n);
  return out;
}

function scalar(text) {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text.trim() !== '' && !isNaN(Number(text))) return Number(text);
  return text;
}

function convert(el) {
  const kids = children(el);
  if (kids.length === 0) return scalar(el.textContent);
  const names = new Set(kids.map((k) => k.nodeName));
  if (kids.length === 1 || names.size === 1) return kids.map(convert);
  const obj = {};
  for (const k of kids) obj[k.nodeName] = convert(k);
  return obj;
}

exports.parseXml = function parseXml(xml) {
  const doc = new DOMParser().parseFromString(String(xml), 'text/xml');
  return convert(doc.documentElement);
};
