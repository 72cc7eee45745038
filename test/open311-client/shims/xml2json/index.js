// Stand-in for xml2json 0.2 (a native node-expat build that no longer
// compiles): toJson(xml, {object: true}) returns {root: {...}} with
// repeated elements as arrays, single ones as objects and leaves as text.
'use strict';
const { DOMParser } = require('@xmldom/xmldom');

function convert(el) {
  const kids = [];
  for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) kids.push(n);
  if (kids.length === 0) return el.textContent;
  const obj = {};
  for (const k of kids) {
    const v = convert(k);
    if (!(k.nodeName in obj)) obj[k.nodeName] = v;
    else if (Array.isArray(obj[k.nodeName])) obj[k.nodeName].push(v);
    else obj[k.nodeName] = [obj[k.nodeName], v];
  }
  return obj;
}

exports.toJson = function toJson(xml, options) {
  const doc = new DOMParser().parseFromString(String(xml), 'text/xml');
  const out = { [doc.documentElement.nodeName]: convert(doc.documentElement) };
  return options && options.object ? out : JSON.stringify(out);
};
