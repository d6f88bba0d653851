"""Questions → answers: the question parsed once, answerability (answered / not stated / off-topic), the
kinds of answer (routes), the wording (phrasing, agency names in English, the drafting tables, the
renderings' fidelity checks), conversations. Knows no screen."""
