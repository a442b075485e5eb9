using Lb.Core.Spec;

namespace Lb.Server.Import;

/// <summary>A remark about one line of the imported file.</summary>
/// <param name="Line">1-based line number.</param>
/// <param name="Untranslated">True when the line affects routing or balancing and Lb could not express it.</param>
/// <param name="Message">What was done, or why it could not be.</param>
internal sealed record ImportNote(int Line, bool Untranslated, string Message);

/// <summary>The translated configuration and the notes about the source.</summary>
internal sealed record ImportResult(ProxyConfig Config, IReadOnlyList<ImportNote> Notes)
{
    /// <summary>True when everything that affects routing and balancing was translated.</summary>
    public bool Complete => Notes.All(n => !n.Untranslated);
}
