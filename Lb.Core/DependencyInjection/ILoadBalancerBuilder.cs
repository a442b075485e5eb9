using Microsoft.Extensions.DependencyInjection;

namespace Lb.Core.DependencyInjection;

/// <summary>
/// Returned by <c>services.AddLoadBalancer()</c>; other Lb packages add their parts through extension methods
/// on it (<c>.AddRaftStore()</c>, <c>.AddVip()</c>, ...).
/// </summary>
public interface ILoadBalancerBuilder
{
    /// <summary>The service collection being configured.</summary>
    IServiceCollection Services { get; }
}

internal sealed class LoadBalancerBuilder(IServiceCollection services) : ILoadBalancerBuilder
{
    public IServiceCollection Services { get; } = services;
}
