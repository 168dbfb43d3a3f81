// Ids shared by the exported page's markup and its script.

/** The id of the `<script type="application/json">` element that holds the trace file. */
export const TRACE_DATA_ELEMENT_ID = 'thinkscope-trace';
