export const name = 'label-bindings';

/**
 * Which label shows which facing, as staff set it through `PUT /api/labels/:id/binding` (a handheld linking a label to
 * a facing). Bindings from the planogram file are not stored: the file is read at every start; a row here overrides
 * the file's binding for the same label.
 */
export const sql = `
CREATE TABLE label_bindings (
  label_id   TEXT PRIMARY KEY,
  shelf_id   TEXT NOT NULL,
  facing     INTEGER NOT NULL,
  bound_by   TEXT NOT NULL,
  bound_at   INTEGER NOT NULL
);
`;
