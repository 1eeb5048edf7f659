// Semantic specifications (docs/semantic.md) in forms: the editor used by
// Submit and by a learnware's Edit, the search page's tag filters, and the
// read-only views (tags, feature tables).
import {h, field, newId} from './dom.js';

export function valuesOf(semantic, key) {
  const entry = semantic && semantic[key];
  if (!entry || entry.Values === undefined || entry.Values === null) return [];
  return Array.isArray(entry.Values) ? entry.Values.map(String) : [String(entry.Values)];
}

export function textOf(semantic, key) {
  const entry = semantic && semantic[key];
  if (!entry) return '';
  return Array.isArray(entry.Values) ? entry.Values.join(' ') : String(entry.Values ?? '');
}

// Tag-like keys of the taxonomy (Class and Tag), in its order.
export function tagKeys(tax) {
  return Object.entries(tax.keys).filter(([, def]) => def.Type === 'Class' || def.Type === 'Tag').map(([k]) => k);
}

function checkboxGroup(legend, values, checked, opts = {}) {
  const boxes = values.map((v) => h('input', {type: 'checkbox', value: v, checked: checked.includes(v), id: newId('cb')}));
  const set = h('fieldset', {class: `checks ${opts.compact ? 'compact' : ''}`},
    h('legend', {}, legend),
    h('div', {class: 'check-grid'}, boxes.map((b) => h('label', {class: 'check', for: b.id}, b, ' ', b.value))));
  set.read = () => boxes.filter((b) => b.checked).map((b) => b.value);
  return set;
}

function select(values, chosen, placeholder) {
  const s = h('select', {},
    placeholder !== undefined ? h('option', {value: ''}, placeholder) : null,
    values.map((v) => h('option', {value: v, selected: v === chosen}, v)));
  if (chosen && values.includes(chosen)) s.value = chosen;
  return s;
}

// ---- the search page's filters ----------------------------------------------

// Data/Task/Library (Class keys): one choice or any; Scenario (Tag) and
// License: any of several.  read() answers the semantic part of a search.
export function searchFilters(tax, initial = {}) {
  const parts = [];
  const controls = [];
  for (const key of tagKeys(tax)) {
    const def = tax.keys[key];
    const chosen = valuesOf(initial, key);
    if (def.Type === 'Tag' || key === 'License') {
      const group = checkboxGroup(key, def.Values || [], chosen, {compact: true});
      parts.push(h('details', {class: 'filter-more', open: chosen.length > 0}, h('summary', {}, key), group));
      controls.push([key, def.Type, () => group.read()]);
    } else {
      const s = select(def.Values || [], chosen[0] || '', 'any');
      parts.push(field(key, s));
      controls.push([key, def.Type, () => (s.value ? [s.value] : [])]);
    }
  }
  const box = h('div', {class: 'filters'}, parts);
  box.read = () => {
    const sem = {};
    for (const [key, type, read] of controls) {
      const values = read();
      if (values.length) sem[key] = {Type: type, Values: values};
    }
    return sem;
  };
  return box;
}

// ---- the editor ---------------------------------------------------------------

function featureLines(block) {
  if (!block || typeof block !== 'object') return '';
  const desc = block.Description || {};
  const dim = Number.isInteger(block.Dimension) ? block.Dimension : 0;
  const n = Math.max(dim, ...Object.keys(desc).map((k) => Number(k) + 1).filter(Number.isFinite), 0);
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(desc[String(i)] ?? '');
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
}

function featureBlock(label, initial) {
  const dim = h('input', {type: 'number', min: 0, step: 1, inputmode: 'numeric',
    value: initial && Number.isInteger(initial.Dimension) ? initial.Dimension : ''});
  const text = h('textarea', {rows: 4, spellcheck: 'false'}, featureLines(initial));
  const box = h('fieldset', {class: 'feature-block'}, h('legend', {}, label),
    h('div', {class: 'row'},
      field(`${label} dimension`, dim, 'number of features; empty: one per line below'),
      field(`${label} feature descriptions`, text, 'one line per feature, in order; a blank line leaves a feature undescribed')));
  box.read = () => {
    const lines = text.value.replace(/\r/g, '').split('\n');
    while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
    if (dim.value === '' && !lines.length) return null;
    const description = {};
    lines.forEach((l, i) => {
      if (l.trim()) description[String(i)] = l.trim();
    });
    return {Dimension: dim.value === '' ? lines.length : Number(dim.value), Description: description};
  };
  return box;
}

// A form section for a whole semantic specification.  Answers an element
// with read() (the specification, keys in the taxonomy's order, Input and
// Output last) and problems(spec) (the checker's rules, client side).
export function semanticEditor(tax, initial = {}) {
  const parts = [];
  const readers = [];
  const name = h('input', {type: 'text', required: true, maxlength: 200, value: textOf(initial, 'Name')});
  const description = h('textarea', {rows: 6}, textOf(initial, 'Description'));
  parts.push(field('Name', name));
  parts.push(field('Description', description, 'Markdown: # headings, lists, `code`, **bold**, *emphasis*, [links](https://…)'));
  const tagRow = [];
  for (const [key, def] of Object.entries(tax.keys)) {
    if (key === 'Name') {
      readers.push([key, () => ({Type: 'String', Values: name.value.trim()})]);
    } else if (key === 'Description') {
      readers.push([key, () => ({Type: 'String', Values: description.value.trim()})]);
    } else if (def.Type === 'Class') {
      const chosen = valuesOf(initial, key)[0] || (def.Default || [])[0] || '';
      const s = select(def.Values || [], chosen, 'choose…');
      tagRow.push(field(key, s));
      readers.push([key, () => ({Type: 'Class', Values: s.value ? [s.value] : []})]);
    } else if (def.Type === 'Tag') {
      const chosen = valuesOf(initial, key);
      const group = checkboxGroup(key, def.Values || [], chosen.length ? chosen : def.Default || []);
      parts.push(group);
      readers.push([key, () => ({Type: 'Tag', Values: group.read()})]);
    } else {
      const input = h('input', {type: 'text', value: textOf(initial, key) || def.Default || ''});
      parts.push(field(key, input));
      readers.push([key, () => ({Type: 'String', Values: input.value.trim()})]);
    }
  }
  parts.splice(2, 0, h('div', {class: 'row tags-row'}, tagRow));
  const input = featureBlock('Input', initial.Input);
  const output = featureBlock('Output', initial.Output);
  parts.push(input, output);

  const box = h('div', {class: 'semantic-editor'}, parts);
  box.read = () => {
    const spec = {};
    for (const [key, read] of readers) spec[key] = read();
    // keys the taxonomy does not know are kept as they were
    for (const [key, value] of Object.entries(initial || {})) {
      if (!(key in spec) && key !== 'Input' && key !== 'Output') spec[key] = value;
    }
    const i = input.read();
    const o = output.read();
    if (i) spec.Input = i;
    if (o) spec.Output = o;
    return spec;
  };
  box.problems = (spec) => problems(tax, spec);
  return box;
}

// The checker's rules (docs/semantic.md, "Validation"), for messages before
// the upload; the server checks again.
export function problems(tax, spec) {
  const out = [];
  for (const [key, def] of Object.entries(tax.keys)) {
    if (def.Required === false) continue;
    const v = spec[key] && spec[key].Values;
    if (def.Type === 'Class' && (!Array.isArray(v) || v.length !== 1)) out.push(`${key}: choose one value`);
    else if (def.Type === 'Tag' && (!Array.isArray(v) || !v.length)) out.push(`${key}: choose at least one value`);
    else if (def.Type === 'String' && !(typeof v === 'string' && v.trim())) out.push(`${key}: must not be empty`);
  }
  for (const [block, rules] of Object.entries(tax.features || {})) {
    let required = false;
    for (const [key, values] of Object.entries(rules.RequiredWhen || {})) {
      if (values.includes(valuesOf(spec, key)[0])) required = true;
    }
    if (!required) continue;
    const b = spec[block];
    if (!b) {
      out.push(`${block}: required here; give its dimension or its feature descriptions`);
      continue;
    }
    if (!Number.isInteger(b.Dimension) || b.Dimension < 0) out.push(`${block}: the dimension must be a whole number`);
    const outside = Object.keys(b.Description || {}).filter((k) => Number(k) >= b.Dimension);
    if (outside.length) out.push(`${block}: ${outside.length} descriptions beyond dimension ${b.Dimension}`);
    for (const [key, byValue] of Object.entries(rules.MinDimension || {})) {
      const least = byValue[valuesOf(spec, key)[0]];
      if (least !== undefined && b.Dimension < least) {
        out.push(`${block}: dimension ${b.Dimension}; ${key} '${valuesOf(spec, key)[0]}' needs at least ${least}`);
      }
    }
  }
  return out;
}

// ---- read-only views --------------------------------------------------------

export function tagList(semantic, keys) {
  const chips = [];
  for (const key of keys) {
    for (const v of valuesOf(semantic, key)) {
      chips.push(h('li', {class: `tag tag-${key.toLowerCase().replace(/[^a-z]/g, '')}`},
        h('span', {class: 'tag-key'}, key), ' ', v));
    }
  }
  return h('ul', {class: 'tags', 'aria-label': 'Tags'}, chips);
}

export function featureTable(title, block) {
  if (!block || typeof block !== 'object') return null;
  const desc = block.Description || {};
  const keys = Object.keys(desc).sort((a, b) => Number(a) - Number(b));
  return h('section', {class: 'features'},
    h('h3', {}, `${title}: ${Number.isInteger(block.Dimension) ? block.Dimension : '?'} ${block.Dimension === 1 ? 'feature' : 'features'}`),
    keys.length
      ? h('table', {class: 'table compact'},
        h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, '#'), h('th', {scope: 'col'}, 'Meaning'))),
        h('tbody', {}, keys.map((k) => h('tr', {}, h('td', {class: 'num'}, k), h('td', {}, String(desc[k]))))))
      : h('p', {class: 'muted'}, 'No feature is described.'));
}
