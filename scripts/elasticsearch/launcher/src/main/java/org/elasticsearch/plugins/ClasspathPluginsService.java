package org.elasticsearch.plugins;

import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.jdk.ModuleQualifiedExportsService;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Loads plugins from classes already on the classpath instead of plugin folders. It lives in
 * Elasticsearch's package because LoadedPlugin and loadPlugin are package-private.
 */
public final class ClasspathPluginsService extends PluginsService {
    private final List<LoadedPlugin> loaded = new ArrayList<>();

    public ClasspathPluginsService(Settings settings, List<Class<? extends Plugin>> pluginClasses) {
        super(settings, null, null, null);
        for (Class<? extends Plugin> pluginClass : pluginClasses) {
            Plugin plugin = loadPlugin(pluginClass, settings, null);
            PluginDescriptor descriptor = new PluginDescriptor(
                pluginClass.getSimpleName(), "classpath plugin", "NA", org.elasticsearch.Version.CURRENT.toString(), "17",
                pluginClass.getName(), null, List.of(), false, false, false, false);
            loaded.add(new LoadedPlugin(descriptor, plugin));
        }
    }

    /** The server runs as an unnamed classpath module here: there are no qualified exports to wire. */
    @Override
    protected void addServerExportsService(Map<String, List<ModuleQualifiedExportsService>> exports) {}

    @Override
    protected List<LoadedPlugin> plugins() {
        return loaded;
    }
}
