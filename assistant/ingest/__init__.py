"""Documents in: readers (text, html, docx, pdf → paragraphs), the notice's facts, the clause tree and its
records, the catalog, the library of added documents (originals kept byte for byte), the glossary. Knows no
index and no wording of answers."""
