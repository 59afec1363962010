package dev.tessera.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.keycloak.provider.ProviderConfigProperty;

/** What Keycloak loads from the jar: service file, form template, message bundles, config properties. */
class PackagingTest {
  private static String resource(String name) throws IOException {
    try (InputStream in = PackagingTest.class.getClassLoader().getResourceAsStream(name)) {
      assertNotNull(in, name);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void factoryIsRegistered() throws IOException {
    String services = resource("META-INF/services/org.keycloak.authentication.AuthenticatorFactory");
    assertEquals(TesseraAuthenticatorFactory.class.getName(), services.trim());
    assertEquals("tessera-otp", new TesseraAuthenticatorFactory().getId());
    // Keycloak 26.6+ counts brute-force failures only for the password, otp and recovery-authn-codes categories.
    assertEquals("otp", new TesseraAuthenticatorFactory().getReferenceCategory());
  }

  @Test
  void templateHasTheOtpInput() throws IOException {
    String ftl = resource("theme-resources/templates/" + TesseraAuthenticator.TEMPLATE);
    assertTrue(ftl.contains("name=\"otp\""));
    assertTrue(ftl.contains("${url.loginAction}"));
  }

  @Test
  void everyMessageKeyIsTranslated() throws Exception {
    Set<String> keys = new HashSet<>();
    for (Field f : Messages.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) keys.add((String) f.get(null));
    }
    for (String lang : List.of("en", "de")) {
      Properties p = new Properties();
      p.load(new java.io.StringReader(resource("theme-resources/messages/messages_" + lang + ".properties")));
      for (String k : keys) assertTrue(p.containsKey(k), lang + " lacks " + k);
    }
  }

  @Test
  void configPropertiesMatchTheConfigKeys() {
    List<ProviderConfigProperty> props = new TesseraAuthenticatorFactory().getConfigProperties();
    Set<String> names = props.stream().map(ProviderConfigProperty::getName).collect(Collectors.toSet());
    assertEquals(Set.of(TesseraConfig.URL, TesseraConfig.API_KEY, TesseraConfig.TIMEOUT_MS, TesseraConfig.INCLUDE_GROUPS,
        TesseraConfig.EXCLUDE_GROUPS, TesseraConfig.USERNAME_ATTRIBUTE, TesseraConfig.FAIL_MODE), names);
    ProviderConfigProperty key = props.stream().filter(p -> p.getName().equals(TesseraConfig.API_KEY)).findFirst().get();
    assertEquals(ProviderConfigProperty.PASSWORD, key.getType());
    ProviderConfigProperty mode = props.stream().filter(p -> p.getName().equals(TesseraConfig.FAIL_MODE)).findFirst().get();
    assertEquals(ProviderConfigProperty.LIST_TYPE, mode.getType());
    assertEquals(List.of("closed", "open"), mode.getOptions());
    assertEquals("closed", mode.getDefaultValue());
  }
}
