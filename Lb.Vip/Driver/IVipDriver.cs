using Lb.Core.Spec;

namespace Lb.Vip.Driver;

/// <summary>
/// Puts a VIP on a local interface and announces it. Every operation is idempotent and fails with
/// <see cref="VipDriverException"/> (never anything else) so the controller can report it and carry on.
/// </summary>
public interface IVipDriver
{
    /// <summary>
    /// Adds <paramref name="address"/> to <paramref name="interfaceName"/>, or refreshes it when already present. With a
    /// finite <paramref name="lifetime"/> the kernel itself deletes the address when it is not refreshed in time (whole
    /// seconds, rounded up), so a process that dies or hangs cannot hold the VIP for long; infinite = permanent.
    /// </summary>
    void AddAddress(string interfaceName, VipCidr address, TimeSpan lifetime);

    /// <summary>Removes <paramref name="address"/> from <paramref name="interfaceName"/>; already absent is success.</summary>
    void RemoveAddress(string interfaceName, VipCidr address);

    /// <summary>
    /// Broadcasts one gratuitous ARP request and one gratuitous ARP reply for <paramref name="address"/> from
    /// <paramref name="interfaceName"/>'s MAC, so neighbours (and switches) move the VIP to this host. Some stacks
    /// only update their cache from one of the two forms, so both are sent.
    /// </summary>
    void AnnounceAddress(string interfaceName, VipCidr address);
}

/// <summary>A driver operation failed; the message says what and how to fix it (e.g. missing CAP_NET_ADMIN).</summary>
public sealed class VipDriverException : Exception
{
    /// <summary>Creates the exception.</summary>
    public VipDriverException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public VipDriverException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception.</summary>
    public VipDriverException() { }

    /// <summary>The errno behind the failure, or 0.</summary>
    public int Errno { get; init; }
}
