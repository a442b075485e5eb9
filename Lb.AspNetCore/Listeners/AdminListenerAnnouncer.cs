using Lb.Core.Admin;
using Microsoft.Extensions.Hosting;

namespace Lb.AspNetCore.Listeners;

/// <summary>Tells every <see cref="IAdminListenerObserver"/> the bound admin URLs once the host has started.</summary>
internal sealed class AdminListenerAnnouncer(IHostApplicationLifetime lifetime, LoadBalancerListeners listeners, IEnumerable<IAdminListenerObserver> observers) : IHostedService
{
    private CancellationTokenRegistration _started;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var all = observers.ToArray();
        if (all.Length > 0)
        {
            _started = lifetime.ApplicationStarted.Register(() =>
            {
                var admin = listeners.Current().Admin;
                if (admin.Count > 0)
                {
                    foreach (var observer in all)
                    {
                        observer.OnAdminListening(admin);
                    }
                }
            });
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _started.Dispose();
        return Task.CompletedTask;
    }
}
