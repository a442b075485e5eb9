namespace Lb.Balancing;

/// <summary>How a proxied request to a target ended; passed to <see cref="UpstreamTarget.Complete"/>.</summary>
public enum RequestOutcome
{
    /// <summary>The target answered (any status that is not counted as a failure). Resets the failure streak.</summary>
    Success,
    /// <summary>The TCP connection to the target could not be established. Always counts as a failure.</summary>
    ConnectFailure,
    /// <summary>The target did not answer in time. Always counts as a failure.</summary>
    Timeout,
    /// <summary>The target answered with a 5xx status. Counts as a failure only when the pool's <c>count_5xx</c> is set.</summary>
    ServerError5xx,
    /// <summary>The client went away; says nothing about the target and leaves the failure streak alone.</summary>
    ClientAborted,
    /// <summary>Any other error (for example a reset after the response started); leaves the failure streak alone.</summary>
    OtherFailure,
}
