namespace Lb.AspNetCore.Runtime;

/// <summary>
/// A transport's own data for a snapshot (the HTTP proxy's connection pools and destination prefixes), kept in the
/// transport's side table keyed by pool, so the snapshot stays transport-neutral.
/// </summary>
internal interface IRuntimeAttachment
{
    /// <summary>
    /// Builds this transport's data for <paramref name="next"/> before it is published. Throwing rejects the
    /// snapshot: the last good one keeps serving. Returns the step that makes the data current, run right after
    /// the snapshot is published; it must not throw.
    /// </summary>
    Action Prepare(RuntimeSnapshot next);
}
