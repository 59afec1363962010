<#-- Tessera method selection: one button per method Tessera offered (its value is the menu number),
     and a code field for a user who has a code already. Same markup rules as tessera-otp.ftl. -->
<#import "template.ftl" as layout>
<@layout.registrationLayout displayMessage=true; section>
    <#if section = "header">
        ${msg("tesseraSelectTitle")}
    <#elseif section = "form">
        <form id="kc-tessera-select-form" class="${properties.kcFormClass!}" action="${url.loginAction}" method="post">
            <p id="tessera-select-hint" class="${properties.kcLabelWrapperClass!}">${msg("tesseraSelectHint")}</p>
            <div id="tessera-methods" class="${properties.kcFormGroupClass!}">
                <#list tesseraMethods as m>
                    <button type="submit" name="tessera-method" value="${m.index()}" data-method="${m.type()}"
                            class="${properties.kcButtonClass!} ${properties.kcButtonDefaultClass!} ${properties.kcButtonBlockClass!}">${m.label()}</button>
                </#list>
            </div>
            <div class="${properties.kcFormGroupClass!}">
                <div class="${properties.kcLabelWrapperClass!}">
                    <label for="otp" class="${properties.kcLabelClass!}">${msg("tesseraCodeInstead")}</label>
                </div>
                <div class="${properties.kcInputWrapperClass!}">
                    <input id="otp" name="otp" type="text" class="${properties.kcInputClass!}"
                           autocomplete="one-time-code" inputmode="numeric"/>
                </div>
            </div>
            <div class="${properties.kcFormGroupClass!}">
                <div id="kc-form-buttons" class="${properties.kcFormButtonsClass!}">
                    <input class="${properties.kcButtonClass!} ${properties.kcButtonPrimaryClass!} ${properties.kcButtonBlockClass!} ${properties.kcButtonLargeClass!}"
                           name="login" id="kc-login" type="submit" value="${msg("doLogIn")}"/>
                </div>
            </div>
        </form>
    </#if>
</@layout.registrationLayout>
