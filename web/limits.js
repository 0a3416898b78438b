// What the page's fields may hold and when check-in opens: core's own limits, which the API writes into the page
// it serves (api/web.py, field_limits), so the page keeps no copy of its own.

export const limits = JSON.parse(document.querySelector('meta[name="turnout-limits"]')?.content || "{}");

// A field's maxlength attribute, as a string.
export const most = (name) => String(limits[name]);

// An event's fields as core declares them (core/fields.py, Field), those on the form, in order: name, kind, label...
export const eventFields = () => limits.event_fields ?? [];
