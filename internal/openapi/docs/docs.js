// API documentation page for an OpenAPI 3.1 document.
//
// Plain JavaScript, no framework, no build step. Every string from the
// document reaches the page as a text node (never as markup), and nothing is
// loaded from another origin, so the page works under a strict
// Content-Security-Policy (script-src 'self', no inline code, no eval).
'use strict';

(() => {
  const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
  const UNTAGGED = 'Other';

  // ---- DOM helpers --------------------------------------------------------

  // el creates an element; props are assigned as DOM properties (className,
  // id, href, …) and children are nodes or strings (added as text).
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value !== undefined && value !== null) node[key] = value;
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function byId(id) {
    return document.getElementById(id);
  }

  // lazyDetails returns a <details> whose body is built on first opening,
  // which keeps big documents fast and recursive schemas finite.
  function lazyDetails(className, summary, build, open) {
    const details = el('details', { className }, el('summary', null, summary));
    let built = false;
    const fill = () => {
      if (details.open && !built) {
        built = true;
        append(details, [build()]);
      }
    };
    details.addEventListener('toggle', fill);
    if (open) {
      details.open = true;
      fill();
    }
    return details;
  }

  // ---- the document -------------------------------------------------------

  let spec = {};
  const schemaEntries = []; // { name, node } of the Schemas section, for the filter

  // resolve follows a local "$ref" (a JSON pointer such as
  // "#/components/schemas/Agent"); it returns undefined when it cannot.
  function resolve(ref) {
    if (typeof ref !== 'string' || !ref.startsWith('#')) return undefined;
    let node = spec;
    for (const raw of ref.slice(1).split('/').slice(1)) {
      const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
      if (node === null || typeof node !== 'object') return undefined;
      node = node[key];
    }
    return node;
  }

  function refName(ref) {
    return ref.slice(ref.lastIndexOf('/') + 1);
  }

  // deref replaces a parameter or response given as a $ref by its target.
  function deref(obj) {
    return obj && obj.$ref ? resolve(obj.$ref) || {} : obj || {};
  }

  // operations lists every operation with what the filter searches.
  function operations() {
    const out = [];
    for (const [path, item] of Object.entries(spec.paths || {})) {
      for (const method of METHODS) {
        const op = item && item[method];
        if (!op) continue;
        const tag = (op.tags && op.tags[0]) || UNTAGGED;
        const haystack = [method, path, op.summary, op.description, op.operationId, tag]
          .filter(Boolean).join(' ').toLowerCase();
        out.push({ method, path, op, item, tag, haystack });
      }
    }
    return out;
  }

  // groupByTag groups operations in the order of the document's tags, then
  // the other tags alphabetically, untagged last.
  function groupByTag(ops) {
    const declared = (spec.tags || []).map((t) => t.name);
    const groups = new Map(declared.map((name) => [name, []]));
    const others = [...new Set(ops.map((o) => o.tag))]
      .filter((t) => !groups.has(t) && t !== UNTAGGED).sort();
    for (const name of others) groups.set(name, []);
    groups.set(UNTAGGED, []);
    for (const o of ops) groups.get(o.tag).push(o);
    return [...groups].filter(([, list]) => list.length > 0);
  }

  // ---- schemas ------------------------------------------------------------

  // typeLabel describes a schema in a few words: "string (date-time)",
  // "array of Agent", "map of string to integer", "Agent | null".
  function typeLabel(s) {
    if (!s || typeof s !== 'object') return s === false ? 'nothing' : 'any';
    if (s.$ref) return refName(s.$ref);
    const variants = s.anyOf || s.oneOf;
    if (variants) return variants.map(typeLabel).join(' | ');
    const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
    if (types.length === 0) return s.properties ? 'object' : 'any';
    return types.map((t) => singleTypeLabel(s, t)).join(' | ');
  }

  function singleTypeLabel(s, type) {
    if (type === 'array') return 'array of ' + typeLabel(s.items);
    if (type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') {
      return 'map of string to ' + typeLabel(s.additionalProperties);
    }
    return s.format ? `${type} (${s.format})` : type;
  }

  // fieldsOf finds the object schema whose properties explain s: s itself,
  // the target of its $ref, its items, its map values or its non-null branch.
  // It returns { schema, ref } or null.
  function fieldsOf(s, ref) {
    if (!s || typeof s !== 'object') return null;
    if (s.$ref) return fieldsOf(resolve(s.$ref), s.$ref);
    if (s.properties) return { schema: s, ref };
    const inner = s.items || (typeof s.additionalProperties === 'object' && s.additionalProperties) ||
      (s.anyOf || s.oneOf || []).find((v) => v && v.type !== 'null');
    return inner ? fieldsOf(inner) : null;
  }

  // chips lists a schema's constraints: enum values, pattern, bounds, …
  function chips(s) {
    if (!s || typeof s !== 'object') return null;
    const out = [];
    const add = (label, value) => out.push(el('span', { className: 'chip' },
      el('span', { className: 'chip-label' }, label), ' ', el('code', null, value)));
    if (Array.isArray(s.enum)) add('one of', s.enum.map((v) => JSON.stringify(v)).join(', '));
    if (s.const !== undefined) add('equals', JSON.stringify(s.const));
    if (s.pattern) add('pattern', s.pattern);
    if (s.minimum !== undefined) add('min', String(s.minimum));
    if (s.maximum !== undefined) add('max', String(s.maximum));
    if (s.contentEncoding) add('encoding', s.contentEncoding);
    if (s.default !== undefined) add('default', JSON.stringify(s.default));
    const inner = s.items || (s.anyOf || []).find((v) => v && v.type !== 'null');
    if (inner && !inner.$ref) return [out, chips(inner)];
    return out.length ? out : null;
  }

  // schemaView renders a schema as a nested property list. ancestors holds
  // the $refs being expanded above, so that recursive types stop.
  function schemaView(s, ancestors) {
    const box = el('div', { className: 'schema' });
    const found = fieldsOf(s);
    append(box, [el('div', { className: 'schema-type' }, el('span', { className: 'type' }, typeLabel(s)), chips(s))]);
    const target = s && s.$ref ? resolve(s.$ref) : s;
    if (target && target.description) append(box, [el('p', { className: 'schema-desc' }, target.description)]);
    if (found && found.ref && ancestors.includes(found.ref)) {
      append(box, [el('p', { className: 'note' }, `${refName(found.ref)} is recursive: see above.`)]);
    } else if (found) {
      append(box, [propertyList(found.schema, found.ref ? [...ancestors, found.ref] : ancestors)]);
    }
    return box;
  }

  // propertyList renders the properties of an object schema.
  function propertyList(s, ancestors) {
    const required = new Set(s.required || []);
    const list = el('ul', { className: 'props' });
    for (const [name, prop] of Object.entries(s.properties || {})) {
      append(list, [propertyItem(name, prop, required.has(name), ancestors)]);
    }
    if (s.additionalProperties === false) {
      append(list, [el('li', { className: 'note' }, 'No other fields are allowed.')]);
    }
    return list;
  }

  function propertyItem(name, prop, required, ancestors) {
    const head = el('div', { className: 'prop-head' },
      el('code', { className: 'prop-name' }, name), ' ',
      el('span', { className: 'type' }, typeLabel(prop)),
      required ? el('span', { className: 'required' }, 'required') : el('span', { className: 'optional' }, 'optional'));
    const li = el('li', { className: 'prop' }, head);
    const description = (prop && prop.description) || '';
    if (description) append(li, [el('div', { className: 'prop-desc' }, description)]);
    const c = chips(prop);
    if (c) append(li, [el('div', { className: 'chips' }, c)]);
    append(li, [nested(prop, ancestors)]);
    return li;
  }

  // nested renders the fields of a property's object type: inline objects
  // directly, named (referenced) ones behind a toggle.
  function nested(prop, ancestors) {
    const found = fieldsOf(prop);
    if (!found) return null;
    if (!found.ref) return propertyList(found.schema, ancestors);
    const name = refName(found.ref);
    if (ancestors.includes(found.ref)) return el('div', { className: 'note' }, `${name} (recursive, see above)`);
    return lazyDetails('nested', `Fields of ${name}`, () => {
      const desc = found.schema.description ? el('p', { className: 'schema-desc' }, found.schema.description) : null;
      return el('div', null, desc, propertyList(found.schema, [...ancestors, found.ref]));
    });
  }

  // ---- operations ---------------------------------------------------------

  function section(title, ...body) {
    return el('section', { className: 'op-section' }, el('h4', null, title), body);
  }

  function parametersView(params) {
    if (params.length === 0) return null;
    const rows = params.map((p) => el('tr', null,
      el('td', null, el('code', null, p.name || '')),
      el('td', null, p.in || ''),
      el('td', null, el('span', { className: 'type' }, typeLabel(p.schema)), ' ', chips(p.schema)),
      el('td', null, p.required ? el('span', { className: 'required' }, 'required') : 'optional'),
      el('td', null, p.description || '')));
    const head = el('tr', null, ['Name', 'In', 'Type', '', 'Description'].map((h) => el('th', null, h)));
    return section('Parameters', el('table', { className: 'params' }, el('thead', null, head), el('tbody', null, rows)));
  }

  function contentView(content) {
    return Object.entries(content || {}).map(([type, media]) => el('div', { className: 'media' },
      el('div', { className: 'media-type' }, el('code', null, type)),
      media && media.schema ? schemaView(media.schema, []) : null));
  }

  function requestBodyView(body) {
    if (!body) return null;
    body = deref(body);
    const note = body.required ? el('span', { className: 'required' }, 'required') : null;
    return section('Request body', note, body.description ? el('p', null, body.description) : null,
      contentView(body.content));
  }

  function statusOrder(code) {
    if (code === 'default') return 1000;
    return Number(code.replace(/X/g, '0')) + (code.includes('X') ? 0.5 : 0);
  }

  function responsesView(responses) {
    const codes = Object.keys(responses || {}).sort((a, b) => statusOrder(a) - statusOrder(b));
    return section('Responses', codes.map((code) => {
      const r = deref(responses[code]);
      const cls = 'status status-' + (code === 'default' ? 'default' : code[0] + 'xx');
      return el('div', { className: 'response' },
        el('div', { className: 'response-head' }, el('span', { className: cls }, code), ' ', r.description || ''),
        contentView(r.content));
    }));
  }

  function operationBody(o) {
    const params = [...(o.item.parameters || []), ...(o.op.parameters || [])].map(deref);
    return el('div', { className: 'op-body' },
      o.op.description ? el('p', { className: 'op-desc' }, o.op.description) : null,
      o.op.operationId ? el('p', { className: 'op-id' }, 'operationId ', el('code', null, o.op.operationId)) : null,
      parametersView(params),
      requestBodyView(o.op.requestBody),
      responsesView(o.op.responses));
  }

  // pathView shows a path template with its {parameters} highlighted.
  function pathView(path) {
    return path.split(/(\{[^}]*\})/).filter(Boolean).map((part) =>
      part.startsWith('{') ? el('span', { className: 'path-param' }, part) : part);
  }

  function operationView(o) {
    const summary = [
      el('span', { className: 'method method-' + o.method }, o.method.toUpperCase()),
      el('code', { className: 'path' }, pathView(o.path)),
      el('span', { className: 'op-summary' }, o.op.summary || ''),
      o.op.deprecated ? el('span', { className: 'deprecated' }, 'deprecated') : null,
    ];
    const details = lazyDetails('op', summary, () => operationBody(o));
    if (o.op.operationId) details.id = 'op-' + o.op.operationId;
    details.addEventListener('toggle', () => {
      if (details.open && details.id) history.replaceState(null, '', '#' + details.id);
    });
    o.node = details;
    return details;
  }

  // ---- page ---------------------------------------------------------------

  function renderHeader() {
    const info = spec.info || {};
    document.title = (info.title || 'API') + ' – API documentation';
    byId('api-title').textContent = info.title || 'API documentation';
    byId('api-version').textContent = info.version ? 'version ' + info.version : '';
    byId('api-description').textContent = info.description || '';
  }

  function renderGroups(groups) {
    const content = byId('content');
    const toc = byId('toc');
    content.replaceChildren();
    toc.replaceChildren(el('h2', null, 'Tags'));
    const tocList = el('ul', null);
    groups.forEach(([tag, ops], i) => {
      const count = el('span', { className: 'count' }, String(ops.length));
      const heading = el('h2', null, tag, ' ', count);
      const sectionNode = el('section', { className: 'tag', id: 'tag-' + i }, heading, ops.map(operationView));
      const tocCount = el('span', { className: 'count' }, String(ops.length));
      const link = el('li', null, el('a', { href: '#tag-' + i }, tag), ' ', tocCount);
      for (const o of ops) Object.assign(o, { section: sectionNode, tocItem: link, counts: [count, tocCount], total: ops.length });
      content.append(sectionNode);
      tocList.append(link);
    });
    toc.append(tocList);
    content.append(el('p', { className: 'status', id: 'no-match', hidden: true }, 'No operation matches the filter.'));
    renderSchemas(content, tocList);
  }

  function renderSchemas(content, tocList) {
    const schemas = Object.entries((spec.components && spec.components.schemas) || {});
    if (schemas.length === 0) return;
    const list = schemas.map(([name]) => {
      const ref = '#/components/schemas/' + name.replaceAll('~', '~0').replaceAll('/', '~1');
      const details = lazyDetails('schema-entry', el('code', null, name), () => schemaView({ $ref: ref }, []));
      details.id = 'schema-' + name;
      schemaEntries.push({ name: name.toLowerCase(), node: details });
      return details;
    });
    content.append(el('section', { className: 'tag schemas', id: 'schemas' },
      el('h2', null, 'Schemas ', el('span', { className: 'count' }, String(schemas.length))), list));
    tocList.append(el('li', null, el('a', { href: '#schemas' }, 'Schemas')));
  }

  // applyFilter shows the operations whose text contains every word typed.
  function applyFilter(ops, query) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = new Map();
    for (const o of ops) {
      const visible = words.every((w) => o.haystack.includes(w));
      o.node.hidden = !visible;
      shown.set(o.section, (shown.get(o.section) || 0) + (visible ? 1 : 0));
    }
    for (const o of ops) {
      const n = shown.get(o.section);
      o.section.hidden = n === 0;
      o.tocItem.hidden = n === 0;
      for (const c of o.counts) c.textContent = words.length ? `${n} of ${o.total}` : String(n);
    }
    byId('no-match').hidden = ops.length === 0 || [...shown.values()].some((n) => n > 0);
    let schemasShown = 0;
    for (const entry of schemaEntries) {
      entry.node.hidden = !words.every((w) => entry.name.includes(w));
      if (!entry.node.hidden) schemasShown++;
    }
    const schemas = byId('schemas');
    if (schemas) schemas.hidden = schemasShown === 0;
  }

  function setAllOpen(ops, open) {
    for (const o of ops) if (!o.node.hidden) o.node.open = open;
  }

  function openFromHash() {
    const id = decodeURIComponent(location.hash.slice(1));
    const target = id && byId(id);
    if (target && target.tagName === 'DETAILS') {
      target.open = true;
      target.scrollIntoView();
    }
  }

  // wireToolbar connects the filter box (kept in the URL as ?q=, so that a
  // filtered view can be shared), the buttons and the "/" shortcut.
  function wireToolbar(ops) {
    const filter = byId('filter');
    filter.value = new URLSearchParams(location.search).get('q') || '';
    if (filter.value) applyFilter(ops, filter.value);
    filter.addEventListener('input', () => {
      applyFilter(ops, filter.value);
      const url = new URL(location.href);
      if (filter.value) url.searchParams.set('q', filter.value);
      else url.searchParams.delete('q');
      history.replaceState(null, '', url);
    });
    byId('expand-all').addEventListener('click', () => setAllOpen(ops, true));
    byId('collapse-all').addEventListener('click', () => setAllOpen(ops, false));
    document.addEventListener('keydown', (e) => {
      if (e.key === '/' && document.activeElement !== filter) {
        e.preventDefault();
        filter.focus();
      }
    });
  }

  function showError(message) {
    const status = el('p', { className: 'status error' }, message);
    byId('content').replaceChildren(status);
  }

  async function main() {
    const meta = document.querySelector('meta[name="openapi-spec"]');
    const url = new URL((meta && meta.content) || '/openapi.json', document.baseURI);
    byId('spec-link').href = url.href;
    try {
      const res = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
      spec = await res.json();
    } catch (err) {
      showError(`Could not load the API description from ${url.pathname}: ${err.message}`);
      return;
    }
    renderHeader();
    const ops = operations();
    renderGroups(groupByTag(ops));
    wireToolbar(ops);
    openFromHash();
  }

  main();
})();
