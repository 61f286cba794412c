package org.elasticsearch.node;

import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.ClasspathPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsService;

import java.util.List;

/**
 * A Node whose plugins come from the classpath. In Elasticsearch's package because
 * NodeConstruction and NodeServiceProvider are package-private.
 */
public final class EmbeddedNode extends Node {
    public EmbeddedNode(Settings settings, List<Class<? extends Plugin>> plugins) {
        super(NodeConstruction.prepareConstruction(new Environment(settings, null), new NodeServiceProvider() {
            @Override
            PluginsService newPluginService(Environment environment, Settings nodeSettings) {
                return new ClasspathPluginsService(nodeSettings, plugins);
            }
        }, true));
    }
}
