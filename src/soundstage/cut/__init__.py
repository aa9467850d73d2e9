"""The cut: shots assembled into a timeline with scratch dialogue, written out as an animatic
(PyAV) and as editorial exports (OTIO, CMX 3600 EDL, FCP 7 XML)."""
