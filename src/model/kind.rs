//! The kinds of document the reader reads (text, HTML, PDF, DOCX …): their names, MIME
//! types and file extensions. PURE. Which kind a document's bytes are is the extractor's to
//! decide (`extract::detect`); here is only the vocabulary, which the parser's hints and the
//! uploader speak too.

/// What a document is, by its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Html,
    Pdf,
    Docx,
    /// Legacy Word (OLE2 compound file): Word 97–2003 and Kingsoft WPS Writer.
    Doc,
    /// Rich Text Format.
    Rtf,
    /// A saved web page (MIME multipart/related).
    Mhtml,
    Xlsx,
    /// Legacy Excel and Kingsoft ET (BIFF in an OLE2 compound file).
    Xls,
    /// OFD (GB/T 33190), China's fixed-layout format.
    Ofd,
    Image,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Html => "html",
            Kind::Pdf => "pdf",
            Kind::Docx => "docx",
            Kind::Doc => "doc",
            Kind::Rtf => "rtf",
            Kind::Mhtml => "mhtml",
            Kind::Xlsx => "xlsx",
            Kind::Xls => "xls",
            Kind::Ofd => "ofd",
            Kind::Image => "image",
        }
    }

    /// The kind a file name's extension promises (the uploader picks files by it).
    pub fn from_extension(ext: &str) -> Option<Kind> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "txt" | "text" => Kind::Text,
            "html" | "htm" | "shtml" | "xhtml" => Kind::Html,
            // Pages saved under the name of the script that served them.
            "jsp" | "jspx" | "asp" | "aspx" | "php" | "do" | "action" => Kind::Html,
            "pdf" => Kind::Pdf,
            "docx" => Kind::Docx,
            // Word templates, and Kingsoft WPS Writer's documents and templates.
            "doc" | "dot" | "wps" | "wpt" => Kind::Doc,
            "rtf" => Kind::Rtf,
            "mht" | "mhtml" => Kind::Mhtml,
            "xlsx" | "xlsm" => Kind::Xlsx,
            // Kingsoft ET spreadsheets and templates are the Excel binary format.
            "xls" | "et" | "ett" => Kind::Xls,
            "ofd" => Kind::Ofd,
            "png" | "jpg" | "jpeg" | "tif" | "tiff" | "bmp" | "gif" | "webp" => Kind::Image,
            _ => return None,
        })
    }

    /// The MIME type of this kind, as the uploader names it in `Document.content_type`.
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Text => "text/plain",
            Kind::Html => "text/html",
            Kind::Pdf => "application/pdf",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Doc => "application/msword",
            Kind::Rtf => "application/rtf",
            Kind::Mhtml => "multipart/related",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Kind::Xls => "application/vnd.ms-excel",
            Kind::Ofd => "application/ofd",
            Kind::Image => "image",
        }
    }

    /// The kind a MIME type (or a bare name such as "pdf") names, if it names one.
    pub fn from_content_type(ct: &str) -> Option<Kind> {
        let ct = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        Some(match ct.as_str() {
            "text" | "text/plain" => Kind::Text,
            "html" | "text/html" | "application/xhtml+xml" => Kind::Html,
            "pdf" | "application/pdf" => Kind::Pdf,
            "docx" | "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
                Kind::Docx
            }
            "doc"
            | "wps"
            | "application/msword"
            | "application/kswps"
            | "application/wps-office.wps" => Kind::Doc,
            "rtf" | "application/rtf" | "text/rtf" => Kind::Rtf,
            "mht"
            | "mhtml"
            | "multipart/related"
            | "message/rfc822"
            | "application/x-mimearchive" => Kind::Mhtml,
            "xlsx" | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                Kind::Xlsx
            }
            "xls" | "application/vnd.ms-excel" => Kind::Xls,
            "ofd" | "application/ofd" => Kind::Ofd,
            "image" => Kind::Image,
            other if other.starts_with("image/") => Kind::Image,
            _ => return None,
        })
    }
}
